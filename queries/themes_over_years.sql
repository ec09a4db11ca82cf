-- title: Thema's door de jaren / Themes over the years
-- description: Welke thema's elk document noemt, met hun rang in de top-3 (leeg = niet gerangschikt). De thema-sleutel
--   verbindt hetzelfde thema over de jaren. — Which themes each document names, with their top-3 rank (empty = not ranked).
--   The theme key links the same theme across the years.
select d.period_start as year, d.title as document, t.theme_key, t.name_nl, t.name_en, t.priority_rank,
       s.publisher as source_publisher, s.url as source_url
from themes t
join documents d on d.id = t.document_id
join sources s on s.id = t.source_id
order by d.period_start, d.id, t.priority_rank is null, t.priority_rank, t.name_nl
