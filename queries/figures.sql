-- title: Cijfers van een thema of indicator / Figures of a theme or indicator
-- description: Elk cijfer met eenheid, periode of peildatum, gebied en bron. Filter op (een deel van) de indicator,
--   bijv. inwoners of sloop, op een thema, een gebied of een document. — Every figure with unit, period or reference
--   date, area and source. Filter on (part of) the indicator, e.g. inwoners or sloop, a theme, an area or a document.
-- params:
-- - indicator
-- - theme
-- - area
-- - document
select sp.indicator, sp.indicator_en, sp.qualifier, sp.value, sp.unit,
       sp.period_start, sp.period_end, sp.reference_date, sp.area,
       d.title as document, t.name_nl as theme, p.name as partner,
       s.publisher as source_publisher, s.published_on as source_date, s.url as source_url,
       sp.notes, sp.id as specification_id
from specifications sp
left join documents d on d.id = sp.document_id
left join themes t on t.id = sp.theme_id
left join partners p on p.id = sp.partner_id
join sources s on s.id = sp.source_id
where (:indicator = '' or sp.indicator like '%' || :indicator || '%' or sp.indicator_en like '%' || :indicator || '%')
  and (:theme = '' or t.theme_key = :theme or t.name_nl like '%' || :theme || '%')
  and (:area = '' or sp.area like '%' || :area || '%')
  and (:document = '' or sp.document_id = :document)
order by sp.indicator, sp.area, coalesce(sp.reference_date, sp.period_start, ''), s.published_on
