-- title: Thema's door de jaren / Themes over the years
-- description: Welke thema's elk document noemt, met hun rang in de top-3 (leeg = niet gerangschikt). De thema-sleutel
--   verbindt hetzelfde thema over de jaren. — Which themes each document names, with their top-3 rank (empty = not ranked).
--   The theme key links the same theme across the years.
select year, document, theme_key, theme as name_nl, theme_en as name_en, rank as priority_rank,
       source_publisher, source_url
from themes_overview
order by year, document_id, rank is null, rank, theme
