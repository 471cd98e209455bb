"""t2dsim: an open, fast, validated in-silico simulator of type 2 diabetes and of proposed
stem-cell therapies.

Research tool only: it is never a treatment recommendation.
"""

__version__ = "0.1.0"

DISCLAIMER = (
    "t2dsim is a research and teaching simulator. Its outputs are model predictions under stated "
    "assumptions, not medical advice or a treatment recommendation."
)
