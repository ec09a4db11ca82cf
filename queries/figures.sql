-- title: Cijfers van een thema of indicator / Figures of a theme or indicator
-- description: Elk cijfer met eenheid, periode of peildatum, gebied en bron. Filter op (een deel van) de indicator,
--   bijv. inwoners of sloop, op een thema, een gebied of een document. — Every figure with unit, period or reference
--   date, area and source. Filter on (part of) the indicator, e.g. inwoners or sloop, a theme, an area or a document.
-- params:
-- - indicator
-- - theme
-- - area
-- - document
with figure as not materialized (
  select *, coalesce(reference_date, period_start, '') as reference from specifications_overview
  where (:indicator = '' or indicator like '%' || :indicator || '%' or indicator_en like '%' || :indicator || '%')
    and (:theme = '' or theme_key = :theme or theme like '%' || :theme || '%')
    and (:area = '' or area like '%' || :area || '%')
)
select indicator, indicator_en, qualifier, value, unit, period_start, period_end, reference_date, area,
       document, theme, partner, source_publisher, source_date, source_url, notes, specification_id
from (
  -- One branch per way in, chosen by the first parameter set (document, else indicator, else theme, else area),
  -- each reading its own index in the order asked or sorting only its matches; the other branches stop at once.
  -- The indicator branch walks the figures in indicator order and stops after the rows a page shows.
  select * from figure where :document <> '' and document_id = :document
  union all
  select * from figure where :document = '' and (:indicator <> '' or :theme = '' and :area = '')
  union all
  select * from figure where :document = '' and :indicator = '' and :theme <> '' and specification_id in (
    select id from specifications where theme_id in (
      select id from themes where theme_key = :theme
         or rowid in (select rowid from themes_name_nl_trigram where name_nl like '%' || :theme || '%')))
  union all
  select * from figure where :document = '' and :indicator = '' and :theme = '' and :area <> '' and area in (
    select area from agg_figure_areas
    where rowid in (select rowid from agg_figure_areas_area_trigram where area like '%' || :area || '%'))
  order by indicator, area, reference, source_date
)
