"""The data part of the core: the public stance sets (``sources``, their ``normalizers``, ``fetch``
through one verified ``download``), reading and mixing examples (``examples``), PolNeAR
(``polnear``) and the analyst's labels (``labelstore``). Nothing here loads torch."""
