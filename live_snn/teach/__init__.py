"""Teaching the model someone's own gestures: a prompted recording session
(:mod:`~live_snn.teach.plan`, :mod:`~live_snn.teach.session`, written by
:mod:`~live_snn.teach.recorder`) and a fine-tune of a trained model on it
(:mod:`~live_snn.teach.finetune`). Qt-free: the window's Teach mode and ``live-snn teach``
are views of these objects."""
