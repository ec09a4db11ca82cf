-- title: Hoeveel woningen gesloopt en gebouwd in een dorp, door wie en volgens wie / Homes demolished and built in a
--   village, by whom and according to whom
-- description: 'Vul een dorp in (bijv. Uithuizen; leeg = alle dorpen). Een regel per soort werk in een project en per
--   bron: de corporatie, het aantal woningen, de stand met datum, en uitgever, datum en adres van de bron. Staan er
--   voor één project en soort werk twee regels, dan verschillen de bronnen; tel ze niet op. Een leeg aantal is
--   onbekend, niet nul. — Enter a village (e.g. Uithuizen; empty = all villages). One line per kind of work in a
--   project and per source: the corporation, the number of homes, the status with its date, and publisher, date and
--   address of the source. Two lines for one project and kind of work mean the sources differ; do not add them up. An
--   empty number is unknown, not zero.'
-- params:
-- - place
-- labels_from: projects_overview
-- labels:
--   village: Dorp
--   project: Project
--   part_of: Deel van
select places as village, name as project, corporation, kind, homes, qualifier, status, status_date,
       part_of_id as part_of, source_publisher, source_date, source_title, source_url, source_id,
       project_key, project_row_id
from agg_project_rows
where ${in_place}
order by places, name, source_date, kind
