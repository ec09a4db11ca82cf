-- True for a row of the municipality that a question's `:municipality` parameter names (the name, ignoring case), and
-- for every row when the parameter is empty. The question must have one column called `municipality` in scope.
(:municipality = '' or lower(municipality) = lower(:municipality))
