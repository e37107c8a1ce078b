"""`sqsidem invoke`: the processor run locally, through the consumer, on records shaped as
the queue delivers them, in a subprocess that imports exactly what the zip holds."""
