"""The phrases of api/spec/phrases_en.py as pytest-bdd steps (see registration.py)."""

from api.spec.phrases_en import PHRASES

from .registration import register

register(PHRASES)
