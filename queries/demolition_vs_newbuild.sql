-- title: Geplande sloop en nieuwbouw 2022-2026 / Planned demolition and new build 2022-2026
-- description: De aantallen corporatiewoningen die volgens de afspraken 2022 in 2022-2026 gesloopt en nieuw gebouwd
--   worden. — The numbers of corporation homes to be demolished and newly built in 2022-2026 according to the 2022 agreements.
-- labels:
--   kind_nl: Soort werk
select case when sp.indicator like '%sloop%' then 'Sloop' else 'Nieuwbouw' end as kind_nl,
       case when sp.indicator like '%sloop%' then 'Demolition' else 'New build' end as kind_en,
       sp.value as homes, sp.period_start, sp.period_end, sp.area, d.title as document,
       s.publisher as source_publisher, s.published_on as source_date, s.url as source_url
from specifications sp
join documents d on d.id = sp.document_id
join sources s on s.id = sp.source_id
where d.municipality = 'Het Hogeland' and d.period_start = 2022 and sp.unit = 'woningen'
  and (sp.indicator like '%sloop%' or sp.indicator like '%nieuwbouw%')
order by kind_nl desc
