"""The best achievable ranking on generated data: the generator's own probability of each user viewing each item."""

from __future__ import annotations

import hashlib

import numpy as np

from ml.synthetic.sessions import item_view_probability
from ml.synthetic.world import ITEM_ID_FORMAT, USER_ID_FORMAT, World


class GeneratorOracle:
    """Scores (user keys, item keys) by the true view probability. `pseudonym_salt` maps the pipeline's
    pseudonymised user keys (sha256(salt || user_id), as dbt's `pseudonymise` macro) back to the world's users;
    without it keys are the raw generator user ids."""

    def __init__(self, world: World, pseudonym_salt: str | None = None):
        self.world = world
        ids = [USER_ID_FORMAT % u for u in range(world.n_users)]
        keys = [hashlib.sha256((pseudonym_salt + uid).encode()).hexdigest() for uid in ids] if pseudonym_salt else ids
        self._user = {key: u for u, key in enumerate(keys)}
        self._item = {ITEM_ID_FORMAT % i: i for i in range(world.n_items)}

    def __call__(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        try:
            user_rows = np.array([self._user[u] for u in users], dtype=np.int64)
            item_cols = np.array([self._item[i] for i in items], dtype=np.int64)
        except KeyError as missing:
            raise ValueError(f"{missing} is not in the generated world (wrong salt, seed or volume?)") from None
        return item_view_probability(self.world, user_rows)[:, item_cols]
