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
select d.period_start as year, d.title as document, g.theme, g.kind, g.agreements,
       g.source_publisher, g.source_url, d.municipality
from agg_agreements_per_theme_kind g
join documents d on d.id = g.document_id
where :municipality = '' or lower(d.municipality) = lower(:municipality)
order by year, document, g.theme, g.kind
