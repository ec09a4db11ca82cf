-- title: Top-3 van de prestatieafspraken 2024 / The 2024 top-3
-- description: De zes thema's van de afspraken 2024 met hun plaats in de top-3 die de partners op de startbijeenkomst
--   kozen. — The six themes of the 2024 agreements with their place in the top-3 the partners chose at the kick-off
--   meeting.
-- labels:
--   rank: Rang
--   label: Omschrijving
select t.priority_rank as rank, t.name_nl as theme, t.name_en as theme_en,
       case when t.priority_rank is null then 'niet gerangschikt / not ranked'
            else t.priority_rank || '. ' || t.name_nl end as label,
       s.publisher as source_publisher, s.published_on as source_date, s.url as source_url
from themes t
join documents d on d.id = t.document_id
join sources s on s.id = t.source_id
where d.municipality = 'Het Hogeland' and d.kind = 'prestatieafspraken'
  and d.period_start <= 2024 and coalesce(d.period_end, d.period_start) >= 2024
order by t.priority_rank is null, t.priority_rank, t.name_nl
