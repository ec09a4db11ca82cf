-- title: Woningen per soort werk en per dorp / Homes by kind of work per village
-- description: 'Per dorp, project en soort werk (sloop, nieuwbouw, renovatie, ...) het aantal woningen, met de gemeente,
--   of het dorp buiten Het Hogeland ligt, de corporatie, de stand en de bron: een regel per soort werk en per bron.
--   Noemen bronnen andere aantallen, dan staat elke versie op een eigen regel. Een leeg aantal betekent: geen aantal
--   in de bron (niet nul). De lijst is onvolledig. Vul een dorp in (bijv. kantens) of laat leeg voor alle dorpen. —
--   Per village, project and kind of work (demolition, new build, renovation, ...) the number of homes, with the
--   municipality, whether the village lies outside Het Hogeland, the corporation, the status and the source: one line
--   per kind of work and per source. Where sources give different numbers, each version has its own line. An empty
--   number means: no number in the source (not zero). The list is partial. Enter a village (e.g. kantens) or leave
--   empty for all villages.'
-- params:
-- - place
-- labels_from: projects_overview
-- labels:
--   village: Dorp
--   municipality: Gemeente
--   project: Project
--   part_of: Deel van
select places as village, municipalities as municipality, outside_het_hogeland, name as project, corporation, kind,
       homes, qualifier, status, status_date, part_of_id as part_of, source_publisher, source_date, source_url,
       project_key, source_id, project_row_id
from agg_project_rows
where ${in_place}
order by places, name, source_date, kind
