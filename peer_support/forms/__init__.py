"""Forms for the peer support pages, one module per audience like the views; ``common``
holds the fields and forms more than one audience uses."""
