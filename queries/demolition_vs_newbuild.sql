-- title: Geplande sloop en nieuwbouw 2022-2026 / Planned demolition and new build 2022-2026
-- description: De aantallen corporatiewoningen die volgens de afspraken 2022 in 2022-2026 gesloopt en nieuw gebouwd
--   worden. — The numbers of corporation homes to be demolished and newly built in 2022-2026 according to the 2022 agreements.
-- labels:
--   kind_nl: Soort werk
--   kind_en: Soort werk (Engels)
select case when indicator like '%sloop%' then 'Sloop' else 'Nieuwbouw' end as kind_nl,
       case when indicator like '%sloop%' then 'Demolition' else 'New build' end as kind_en,
       value as homes, period_start, period_end, area, document, source_publisher, source_date, source_url
from specifications_overview
where municipality = 'Het Hogeland' and document_year = 2022 and unit = 'woningen'
  and (indicator like '%sloop%' or indicator like '%nieuwbouw%')
order by kind_nl desc
