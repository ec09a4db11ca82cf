-- True for a project row that lies in the place a question's `:place` parameter names (its key or its name, ignoring
-- case; a project over several villages lies in each of them), and for every row when the parameter is empty.
-- Needs the column `project_row_id` in scope.
(:place = '' or project_row_id in (select project_row_id from agg_project_places where place = lower(:place)))
