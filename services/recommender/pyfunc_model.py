"""The events bundle as an MLflow pyfunc, logged as code (models-from-code: nothing pickled).

MLflow copies this file into the model and runs it at load time; `set_model` names the object.
The API does not go through pyfunc (it reads the arrays directly); this keeps a registered
version usable by any MLflow tool that loads models generically.
"""

from __future__ import annotations

from typing import Any

import mlflow.pyfunc
import pandas as pd
from mlflow.models import set_model

BUNDLE_KEY = "bundle"


class EventsPyfunc(mlflow.pyfunc.PythonModel):
    """Rows of `user_id` (and an optional `algorithm`) -> the top 10 item ids of each."""

    def load_context(self, context: Any) -> None:
        from services.recommender.algorithms import EventsModel

        self.model = EventsModel.load(context.artifacts[BUNDLE_KEY])

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> list[list[str]]:
        import numpy as np

        items = np.arange(len(self.model.item_ids))
        out = []
        for row in model_input.to_dict("records"):
            algorithm = row.get("algorithm") or "hybrid"
            top, _ = self.model.recommend(algorithm, str(row["user_id"]), items, 10)
            out.append(self.model.item_ids[top].tolist())
        return out


set_model(EventsPyfunc())
