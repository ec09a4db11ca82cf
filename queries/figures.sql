-- title: Cijfers van een thema of indicator / Figures of a theme or indicator
-- description: Elk cijfer met eenheid, periode of peildatum, gebied en bron. Filter op (een deel van) de indicator,
--   bijv. inwoners of sloop, op een thema, een gebied of een document. — Every figure with unit, period or reference
--   date, area and source. Filter on (part of) the indicator, e.g. inwoners or sloop, a theme, an area or a document.
-- params:
-- - indicator
-- - theme
-- - area
-- - document
select indicator, indicator_en, qualifier, value, unit, period_start, period_end, reference_date, area,
       document, theme, partner, source_publisher, source_date, source_url, notes, specification_id
from specifications_overview
where (:indicator = '' or indicator like '%' || :indicator || '%' or indicator_en like '%' || :indicator || '%')
  and (:theme = '' or theme_key = :theme or theme like '%' || :theme || '%')
  and (:area = '' or area like '%' || :area || '%')
  and (:document = '' or document_id = :document)
order by indicator, area, coalesce(reference_date, period_start, ''), source_date
