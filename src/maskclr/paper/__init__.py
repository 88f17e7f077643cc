"""Paper artefacts: Tables 1–3 and Figs. 5–6, the activation grid and the training curves.

Every number comes from ``results/metrics.csv`` (``metrics``); the paper's own Table 1 is read
from ``resources/paper_numbers.csv`` and only ever shown in columns labelled as the reference.
Computing (``metrics``) is kept apart from drawing (``figures``, with ``style``) and typesetting
(``tables``).
"""
