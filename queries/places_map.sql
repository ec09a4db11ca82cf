-- title: Plaatsen met coördinaten, voor de kaart / Places with coordinates, for the map
-- description: De plaatsen in de data waarvoor een bron coördinaten geeft (WGS84), met hun gemeente, het aantal projecten
--   en de bron van de coördinaten. Plaatsen zonder coördinaten in een bron staan niet op de kaart; zie de tabel places.
--   — The places in the data for which a source gives coordinates (WGS84), with their municipality, the number of projects
--   and the source of the coordinates. Places without coordinates in a source are not on the map; see the table places.
-- labels:
--   place: Plaats
select pl.name as place, pl.municipality,
       case when pl.in_het_hogeland then 'Het Hogeland' else 'buiten Het Hogeland' end as in_het_hogeland,
       pl.latitude, pl.longitude,
       (select a.projects from agg_projects_per_place a where a.place_id = pl.id) as projects,
       cs.publisher as source_publisher, cs.url as source_url
from places pl
join sources cs on cs.id = pl.coordinates_source_id
where pl.latitude is not null and pl.longitude is not null
order by pl.name
