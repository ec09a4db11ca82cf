-- title: Aantal afspraken per thema en soort / Agreements per theme and kind
-- description: 'Telt de afspraken in de data per document, thema en soort afspraak. Let op: van
--   2024 ontbreken de afspraken per thema (zie de dekking), dus dit telt wat bekend is, niet wat er is afgesproken.
--   Per gemeente (leeg = alle). — Counts the agreements in the data per document, theme and kind. Note: the 2024 agreements
--   per theme are missing (see coverage), so this counts what is known, not what was agreed. Per municipality (empty
--   = all).'
-- params:
-- - municipality
-- labels_from: agreements_overview
-- labels:
--   agreements: Afspraken
select a.year, a.document, coalesce(a.theme, 'Alle thema''s') as theme, a.kind, count(*) as agreements,
       group_concat(distinct a.source_publisher) as source_publisher, group_concat(distinct a.source_url) as source_url,
       a.municipality
from agreements_overview a
where :municipality = '' or lower(a.municipality) = lower(:municipality)
group by a.document_id, 3, a.kind
order by 1, 2, 3, a.kind
