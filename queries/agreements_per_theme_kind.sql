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
select d.period_start as year, d.title as document,
       coalesce(t.name_nl, 'Alle thema''s') as theme, a.kind, count(*) as agreements,
       group_concat(distinct s.publisher) as source_publisher, group_concat(distinct s.url) as source_url,
       d.municipality
from agreements a
join documents d on d.id = a.document_id
left join themes t on t.id = a.theme_id
join sources s on s.id = a.source_id
where :municipality = '' or lower(d.municipality) = lower(:municipality)
group by d.id, theme, a.kind
order by year, document, theme, a.kind
