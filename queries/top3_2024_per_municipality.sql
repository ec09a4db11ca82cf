-- title: Top-3 van 2024 per gemeente, naast elkaar / The 2024 top-3 of each municipality, side by side
-- description: 'Per gemeente de thema''s van de prestatieafspraken 2024 met hun plaats in de top-3, als de bron een
--   rangorde geeft. Geeft de bron er geen, dan staat dat erbij: niet gerangschikt is niet hetzelfde als onbelangrijk.
--   Vul een gemeente in (bijv. Midden-Groningen) of laat leeg voor alle. — Per municipality the themes of the 2024 performance
--   agreements with their top-3 place where the source ranks them. Where it gives no ranking the row says so: not ranked
--   is not the same as unimportant. Enter a municipality or leave empty for all.'
-- params:
-- - municipality
-- labels:
--   rank: Rang
--   label: Omschrijving
--   ranking_in_source: Rangorde in de bron
--   theme_id: Sleutel van het thema
select municipality, rank, theme, theme_en, theme_key, label,
       case when exists (select 1 from themes r where r.document_id = t.document_id and r.priority_rank is not null)
            then 'top-3 in de bron / top-3 in the source'
            else 'geen rangorde in de bron / no ranking in the source' end as ranking_in_source,
       document, source_publisher, source_date, source_url, theme_id
from themes_overview t
where document_kind = 'prestatieafspraken' and year <= 2024 and coalesce(year_end, year) >= 2024
  and (:municipality = '' or ${municipality_matches})
order by municipality, rank is null, rank, theme
