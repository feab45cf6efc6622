"""Demo and sample data sets, and the seeded generator that makes them (``data.generate``)."""
