"""Render the settings models as the README's configuration table (and check it stays true)."""

from __future__ import annotations

from pydantic_settings import BaseSettings


def settings_models() -> list[type[BaseSettings]]:
    """Every service's settings model, most general first."""
    from services.core.settings import CoreSettings
    from services.drift.settings import DriftSettings
    from services.embeddings.settings import EmbeddingSettings
    from services.recommender.settings import RecommenderSettings
    from services.serving.settings import ServingSettings
    from services.training.settings import TrainingSettings

    return [
        CoreSettings,
        EmbeddingSettings,
        TrainingSettings,
        DriftSettings,
        ServingSettings,
        RecommenderSettings,
    ]


def env_names(model: type[BaseSettings], field: str) -> list[str]:
    """The environment variable names that set a field."""
    info = model.model_fields[field]
    alias = info.validation_alias
    if alias is not None and hasattr(alias, "choices"):
        return [str(c) for c in alias.choices]
    prefix = model.model_config.get("env_prefix", "")
    return [f"{prefix}{field}".upper()]


def _default(model: type[BaseSettings], field: str) -> str:
    value = model.model_fields[field].get_default(call_default_factory=True)
    return "(unset)" if value is None or value == "" else f"`{value}`"


def render_table() -> str:
    """Markdown table: variable, default, service, meaning; each field once, where declared."""
    rows = ["| Variable | Default | Used by | Meaning |", "|---|---|---|---|"]
    seen: set[str] = set()
    for model in settings_models():
        for field, info in model.model_fields.items():
            if field in seen:
                continue
            seen.add(field)
            names = " / ".join(f"`{n}`" for n in env_names(model, field))
            owner = model.__module__.split(".")[1]
            rows.append(f"| {names} | {_default(model, field)} | {owner} | {info.description} |")
    return "\n".join(rows)


README_START = "<!-- settings-table:start -->"
README_END = "<!-- settings-table:end -->"


def readme_table(readme: str) -> str:
    """The table currently between the README's markers."""
    start = readme.index(README_START) + len(README_START)
    return readme[start : readme.index(README_END)].strip()


if __name__ == "__main__":
    print(render_table())
