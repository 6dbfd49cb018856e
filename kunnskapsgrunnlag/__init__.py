"""kunnskapsgrunnlag: a reproducible, notebook-based knowledge base for Buskerudplanen.

Data flows one way: catalogue (config/datasets.yml) -> fetch (online API or offline mirror)
-> immutable data/raw + manifest -> notebooks (data/processed, figures, variables) -> report.
"""

__version__ = "0.1.0"
