"""The ad-serving feedback as attnflow logs it: which columns are context, action, reward and propensity, and
how the policy for it is configured. Shared by the Dagster assets (marts) and the simulation (tests, bench)."""

from __future__ import annotations

from .feedback import FeedbackColumns
from .policy import PolicyConfig

# context = user segment (top interest topic), slot, device, network, hour; action = ad; reward = click
CONTEXT = ("segment", "slot", "device", "network", "hour")
AD_COLUMNS = FeedbackColumns(context=CONTEXT, action="ad_id", reward="is_clicked", propensity="propensity",
                             candidates="candidates")
# Only the segment changes which ad is best (slot, device, network and hour move every ad's click odds alike in
# the generator's click model), so only it is crossed with the ad features: fewer crosses, less noise to learn.
AD_POLICY_CONFIG = PolicyConfig(crossed_context=("segment",))
