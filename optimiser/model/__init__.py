"""The OR-Tools routing model: one builder function per dimension or rule."""

from optimiser.model.builder import BuiltModel, build_model

__all__ = ["BuiltModel", "build_model"]
