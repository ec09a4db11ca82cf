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
with counted as not materialized (
  select year, document, theme, kind, agreements, source_publisher, source_url, municipality
  from agg_agreements_per_theme_kind
)
-- Two ways in, each reading an index in the order asked: every municipality, or the one asked for.
select * from counted where :municipality = ''
union all
select * from counted where :municipality <> '' and ${municipality_matches}
order by year, document, theme, kind
