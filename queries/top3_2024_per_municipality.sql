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
select d.municipality, t.priority_rank as rank, t.name_nl as theme, t.name_en as theme_en, t.theme_key,
       case when t.priority_rank is null then 'niet gerangschikt / not ranked'
            else t.priority_rank || '. ' || t.name_nl end as label,
       case when exists (select 1 from themes r where r.document_id = d.id and r.priority_rank is not null)
            then 'top-3 in de bron / top-3 in the source'
            else 'geen rangorde in de bron / no ranking in the source' end as ranking_in_source,
       d.title as document, s.publisher as source_publisher, s.published_on as source_date,
       s.url as source_url, t.id as theme_id
from themes t
join documents d on d.id = t.document_id
join sources s on s.id = t.source_id
where d.kind = 'prestatieafspraken' and d.period_start <= 2024 and coalesce(d.period_end, d.period_start) >= 2024
  and (:municipality = '' or lower(d.municipality) = lower(:municipality))
order by d.municipality, t.priority_rank is null, t.priority_rank, t.name_nl
