"""An ad policy learnt from logged bandit feedback with Vowpal Wabbit's contextual-bandit mode.

`--cb_explore_adf` with action-dependent features: each decision is one multi-line example, a `shared` line with
the context (namespace x: the columns crossed with the actions, c: the others) and one line per candidate with
the action's features (namespace a: its id and what is known about it, e.g. the ad's topic and campaign).
`-q xa` crosses them, which is what lets the policy learn that a segment prefers a topic. VW learns from the logged (action, cost, propensity)
triples -- cost = -reward -- by regressing the cost of the shown action on the context x action features
(`--cb_type dm` by default; see PolicyConfig.cb_type).

The learnt policy keeps exploring: it chooses the best-scored candidate with probability 1 - epsilon +
epsilon/k and every other candidate with epsilon/k (`--epsilon`), so the feedback it logs in turn still
supports off-policy evaluation of the next policy.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .feedback import LoggedFeedback

MODEL_FILE = "policy.vw"
SPEC_FILE = "policy.json"
_UNSAFE = re.compile(r"[\s:|]")  # VW feature names cannot contain whitespace, ':' or '|'


@dataclass(frozen=True)
class PolicyConfig:
    epsilon: float = 0.1
    """Exploration the learnt policy keeps (share of decisions spread uniformly over the candidates)."""
    passes: int = 4
    """Passes over the training rows: VW learns online, and a small learning rate with several passes learns a
    sparse reward (clicks ~4%) far better: one pass at VW's default rate 0.5 learnt no better than the logging
    policy on generated data."""
    learning_rate: float = 0.05
    cb_type: str = "dm"
    """How VW turns logged (action, cost, propensity) into a policy. `dm` regresses the observed cost on the
    context x action features and acts greedily on it; `mtr`/`ips`/`dr` weight by 1/propensity. With an exploring
    logging policy (every candidate has probability >= epsilon/k) `dm` learns the better policy on generated data
    and faster (bench/bandit_policy.py compares them); off-policy *evaluation* always uses the propensities."""
    crossed_context: tuple[str, ...] | None = None
    """Context columns crossed with the action features (None: all). Crossing only what changes which action is
    best (e.g. the user segment) keeps VW from spreading a sparse reward over many useless crosses."""

    def vw_arguments(self) -> str:
        return (f"--cb_explore_adf --epsilon {self.epsilon} --cb_type {self.cb_type} -l {self.learning_rate} "
                f"-q xa --quiet --random_seed 0")


def _feature(name: str, value: str) -> str:
    return f"{_UNSAFE.sub('_', name)}={_UNSAFE.sub('_', str(value))}"


class BanditPolicy:
    """A trained Vowpal Wabbit contextual-bandit policy over each row's candidate actions."""

    def __init__(self, workspace, config: PolicyConfig):
        self._vw = workspace
        self.config = config

    @classmethod
    def train(cls, feedback: LoggedFeedback, config: PolicyConfig = PolicyConfig()) -> "BanditPolicy":
        from vowpalwabbit import Workspace

        policy = cls(Workspace(config.vw_arguments()), config)
        examples = policy._examples(feedback, labelled=True)
        for _ in range(config.passes):
            for example in examples:
                policy._vw.learn(example)
        return policy

    def probabilities(self, feedback: LoggedFeedback) -> np.ndarray:
        """(n, k): the policy's probability of choosing each candidate of each logged row."""
        if len(feedback) == 0:
            return np.zeros(feedback.candidates.shape)
        return np.array([self._vw.predict(example) for example in self._examples(feedback, labelled=False)],
                        dtype=float)

    def greedy(self, feedback: LoggedFeedback) -> np.ndarray:
        """(n, k): all mass on the candidate the policy scores best (the policy without exploration)."""
        probs = self.probabilities(feedback)
        best = np.zeros_like(probs)
        best[np.arange(len(probs)), probs.argmax(axis=1)] = 1.0
        return best

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self._vw.save(str(folder / MODEL_FILE))
        (folder / SPEC_FILE).write_text(json.dumps(asdict(self.config), indent=2))

    @classmethod
    def load(cls, folder: Path) -> "BanditPolicy":
        from vowpalwabbit import Workspace

        spec = json.loads((Path(folder) / SPEC_FILE).read_text())
        crossed = spec["crossed_context"]
        config = PolicyConfig(**{**spec, "crossed_context": tuple(crossed) if crossed is not None else None})
        return cls(Workspace(f"--quiet -i {Path(folder) / MODEL_FILE}"), config)

    def _examples(self, feedback: LoggedFeedback, *, labelled: bool) -> list[list[str]]:
        shared = _shared_lines(feedback, self.config.crossed_context)
        action_lines: dict[str, str] = {}
        for action in np.unique(feedback.candidates):
            features = [_feature("id", action)] + [_feature(k, v) for k, v in
                                                   sorted(feedback.action_features.get(action, {}).items())]
            action_lines[action] = "|a " + " ".join(features)
        examples = []
        for i, row in enumerate(feedback.candidates):
            lines = [shared[i]] + [action_lines[a] for a in row]
            if labelled:
                j = feedback.logged_index[i] + 1
                lines[j] = f"0:{-feedback.reward[i]:g}:{feedback.propensity[i]:.9g} {lines[j]}"
            examples.append(lines)
        return examples


def _shared_lines(feedback: LoggedFeedback, crossed: tuple[str, ...] | None) -> list[str]:
    """`shared |x <crossed context> |c <other context>`: namespace x is crossed with the actions (a)."""
    crossed = tuple(feedback.context.columns) if crossed is None else crossed
    lines = None
    for namespace, names in (("x", [c for c in feedback.context.columns if c in crossed]),
                             ("c", [c for c in feedback.context.columns if c not in crossed])):
        if not names:
            continue
        part = " |" + namespace
        for name in names:
            part = part + " " + _UNSAFE.sub("_", name) + "=" + feedback.context[name].str.replace(_UNSAFE, "_", regex=True)
        lines = part if lines is None else lines + part
    return ("shared" + lines).tolist()
