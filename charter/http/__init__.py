"""HTTP rules every Charter route follows: strict JSON bodies and media types (:mod:`.routes`),
``OPTIONS`` answered with ``Allow`` (:mod:`.options`)."""
