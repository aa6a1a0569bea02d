"""The phrases of api/spec/phrases_zh_hant.py as pytest-bdd steps (see registration.py)."""

from api.spec.phrases_zh_hant import PHRASES

from .registration import register

register(PHRASES)
