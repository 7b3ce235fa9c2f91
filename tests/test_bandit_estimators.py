"""Off-policy estimators against the generator's truth: logged feedback from the generator's own serving policy
and click model (ml.bandit.simulate), where every candidate's true click probability is known."""

import numpy as np
import pandas as pd
import pytest

from ml.bandit import BanditPolicy, BootstrapConfig, FeedbackColumns, FeedbackError, estimate_uplift, \
    estimate_value, from_frame, true_value
from ml.bandit.estimators import LOGGING_POLICY, point_estimates, row_contributions, uniform_policy_probs
from ml.bandit.ad_schema import AD_COLUMNS as COLUMNS, AD_POLICY_CONFIG
from ml.bandit.simulate import simulate_logged_feedback

REPLICATES, ROWS = 40, 10_000


def near_oracle_policy(log) -> np.ndarray:
    """A target policy far from the logging one: 80% on the truly best candidate, the rest uniform."""
    probs = np.full(log.true_click_probs.shape, 0.2 / log.true_click_probs.shape[1])
    probs[np.arange(len(probs)), log.true_click_probs.argmax(axis=1)] += 0.8
    return probs


@pytest.fixture(scope="module")
def replicated():
    """Estimates of the same target policy on independent logs of one world, and the true value of each."""
    rows = []
    for replicate in range(REPLICATES):
        log = simulate_logged_feedback(ROWS, seed=7, events_per_day=50_000, replicate=replicate)
        target = near_oracle_policy(log)
        estimates = point_estimates(log.feedback, target, q=log.true_click_probs)  # DR with the perfect model
        rows.append({**estimates, "truth": true_value(target, log.true_click_probs),
                     "logging_truth": true_value(log.logging_probs, log.true_click_probs)})
    return pd.DataFrame(rows)


def test_ips_is_unbiased_within_its_standard_error(replicated):
    bias = (replicated["ips"] - replicated["truth"]).mean()
    standard_error = (replicated["ips"] - replicated["truth"]).std() / np.sqrt(REPLICATES)
    assert abs(bias) < 3 * standard_error
    # and of a policy far from the logging one, so the weights matter
    assert replicated["truth"].mean() > 1.1 * replicated["logging_truth"].mean()


def test_dr_is_unbiased_too(replicated):
    errors = replicated["dr"] - replicated["truth"]
    assert abs(errors.mean()) < 3 * errors.std() / np.sqrt(REPLICATES)


def test_dr_with_a_good_reward_model_has_lower_variance_than_ips():
    """DR removes the variance that comes from which action the logging policy happened to pick; what is left
    is the click noise, which dominates at a 4% CTR, so the gain is real but small (a few percent here)."""
    log = simulate_logged_feedback(200_000, seed=7, events_per_day=50_000, replicate=97)
    terms = row_contributions(log.feedback, near_oracle_policy(log), q=log.true_click_probs)
    assert terms["dr"].var() < 0.99 * terms["ips"].var()
    # a useless reward model (a constant) brings nothing: DR's variance is then no lower than IPS'
    constant = np.full(log.true_click_probs.shape, log.feedback.reward.mean())
    useless = row_contributions(log.feedback, near_oracle_policy(log), q=constant)
    assert useless["dr"].var() > terms["dr"].var()


COVERAGE_LOGS = 20


def test_bootstrap_intervals_cover_the_truth_and_the_logging_value_is_the_mean_reward():
    """A 95% interval misses the truth on about 1 log in 20, so coverage is counted over 20 independent logs: at
    least 15 must cover (a true 95% coverage falls below that with probability 0.3%)."""
    covered = {"ips": 0, "snips": 0, "dr": 0, "logging": 0}
    for replicate in range(COVERAGE_LOGS):
        log = simulate_logged_feedback(10_000, seed=7, events_per_day=50_000, replicate=1000 + replicate)
        target = near_oracle_policy(log)
        truth = true_value(target, log.true_click_probs)
        estimates = estimate_value(log.feedback, target, q=log.true_click_probs, config=BootstrapConfig(200))
        for name, estimate in estimates.items():
            covered[name] += estimate.ci_low < truth < estimate.ci_high
            assert estimate.ci_low < estimate.value < estimate.ci_high
        logging = estimate_value(log.feedback, LOGGING_POLICY, config=BootstrapConfig(200))["ips"]
        assert logging.value == pytest.approx(log.feedback.reward.mean())
        covered["logging"] += logging.ci_low < true_value(log.logging_probs, log.true_click_probs) < logging.ci_high
    assert all(n >= 15 for n in covered.values()), covered


def test_paired_uplift_of_a_policy_over_itself_is_exactly_zero_and_a_better_policy_is_detected():
    log = simulate_logged_feedback(20_000, seed=7, events_per_day=50_000, replicate=98)
    target = near_oracle_policy(log)
    same = estimate_uplift(log.feedback, target, target, config=BootstrapConfig(200))
    assert all(e.value == e.ci_low == e.ci_high == 0 for e in same.values())
    better = estimate_uplift(log.feedback, target, uniform_policy_probs(log.feedback), config=BootstrapConfig(200))
    true_gain = true_value(target, log.true_click_probs) - true_value(uniform_policy_probs(log.feedback),
                                                                      log.true_click_probs)
    assert better["snips"].ci_low > 0 and better["snips"].ci_low < true_gain < better["snips"].ci_high


def test_learned_policy_beats_the_logging_policy_in_true_value():
    log = simulate_logged_feedback(60_000, seed=3)
    train, test = log.take(np.arange(40_000)), log.take(np.arange(40_000, 60_000))
    policy = BanditPolicy.train(train.feedback, AD_POLICY_CONFIG)
    learned = true_value(policy.probabilities(test.feedback), test.true_click_probs)
    logging = true_value(test.logging_probs, test.true_click_probs)
    assert learned > 1.05 * logging


def test_saved_policy_gives_the_same_choices(tmp_path):
    log = simulate_logged_feedback(3_000, seed=3)
    policy = BanditPolicy.train(log.feedback)
    policy.save(tmp_path / "policy")
    again = BanditPolicy.load(tmp_path / "policy")
    np.testing.assert_allclose(again.probabilities(log.feedback), policy.probabilities(log.feedback))


@pytest.mark.parametrize("bad, message", [
    (0.0, "1 zero (first rows: [3])"),
    (None, "1 missing or non-numeric (first rows: [3])"),
    (1.5, "1 outside (0, 1] (first rows: [3])"),
    ("n/a", "1 missing or non-numeric (first rows: [3])"),
])
def test_a_zero_missing_or_out_of_range_propensity_is_a_clear_error(bad, message):
    table = simulate_logged_feedback(20, seed=3).table.astype({"propensity": object})
    table.loc[3, "propensity"] = bad
    with pytest.raises(FeedbackError, match="propensity") as error:
        from_frame(table, COLUMNS)
    assert message in str(error.value)


def test_a_chosen_action_outside_its_candidates_or_ragged_candidate_lists_are_errors():
    table = simulate_logged_feedback(20, seed=3).table
    outside = table.copy()
    outside.loc[2, "ad_id"] = "not-a-candidate"
    with pytest.raises(FeedbackError, match=r"1 row\(s\) chose an action that is not among their candidates"):
        from_frame(outside, COLUMNS)
    ragged = table.copy()
    ragged.at[4, "candidates"] = list(ragged.at[4, "candidates"])[:2]
    with pytest.raises(FeedbackError, match="same number of candidates"):
        from_frame(ragged, COLUMNS)


def test_without_a_candidates_column_every_action_seen_is_a_candidate():
    table = pd.DataFrame({"user": ["x", "y", "x"], "item": ["i1", "i2", "i3"], "click": [1, 0, 0],
                          "p": [0.5, 0.25, 0.25]})
    feedback = from_frame(table, FeedbackColumns(context=("user",), action="item", reward="click", propensity="p",
                                                 candidates=None))
    assert feedback.candidates.shape == (3, 3) and list(feedback.actions) == ["i1", "i2", "i3"]
    # uniform target (1/3 each): weights (1/3)/0.5 etc.; IPS = mean(w * r) = (2/3 * 1) / 3
    assert point_estimates(feedback, uniform_policy_probs(feedback))["ips"] == pytest.approx(2 / 9)
