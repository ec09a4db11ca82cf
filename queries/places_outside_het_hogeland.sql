-- title: Plaatsen buiten Het Hogeland / Places outside Het Hogeland
-- description: Dorpen in de data die niet in de gemeente Het Hogeland liggen, met hun gemeente, waar ze in de data voorkomen
--   en de bron. Zo worden ze niet per ongeluk meegeteld. — Villages in the data that do not lie in the municipality
--   of Het Hogeland, with their municipality, where they appear in the data and the source, so they are not counted
--   by mistake.
-- labels:
--   place: Plaats
--   figures_naming_it: Cijfers die de plaats noemen
--   place_id: Sleutel van de plaats
select pl.name as place, pl.municipality, pl.notes,
       (select a.project_names from agg_projects_per_place a where a.place_id = pl.id) as projects,
       (select f.figures from agg_figures_per_place f where f.place_id = pl.id) as figures_naming_it,
       s.publisher as source_publisher, s.published_on as source_date, s.url as source_url, pl.id as place_id
from places pl
join sources s on s.id = pl.source_id
where pl.in_het_hogeland = 0
order by pl.municipality, pl.name
