-- True for a row of the municipality that a question's `:municipality` parameter names: the name, ignoring case (an
-- index on lower(municipality) serves it). The question must have one column called `municipality` in scope, and
-- says itself what an empty parameter means (every municipality).
lower(municipality) = lower(:municipality)
