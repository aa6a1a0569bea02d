"""The phrases of api/spec/phrases_zh_hans.py as pytest-bdd steps (see registration.py)."""

from api.spec.phrases_zh_hans import PHRASES

from .registration import register

register(PHRASES)
