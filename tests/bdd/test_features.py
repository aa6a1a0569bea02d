"""Every scenario of every .feature file under features/ (or $BAYGATE_FEATURES), as a pytest test.

No code per feature: a new file in features/ is picked up on the next run. pytest-bdd raises
NoScenariosFound when the folder holds no scenario, so an empty run fails instead of passing.
"""

from __future__ import annotations

from pytest_bdd import scenarios

from .paths import features_dir

scenarios(str(features_dir()))
