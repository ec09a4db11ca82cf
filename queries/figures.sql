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
),
matching_areas as materialized (
  select area, figures from agg_figure_areas
  where :area <> '' and rowid in (select rowid from agg_figure_areas_area_trigram where area like '%' || :area || '%')
),
-- The way in, chosen once from the parameters alone: a document's figures; else the figures of the areas the area
-- word matches, if there are few enough of them to sort (the counts are the build's); else the figures of the themes
-- asked for; else a walk through every figure in indicator order (quick when the words match many figures, which is
-- when the other ways are slow; for a word that matches few figures it reads every entry of the index, which holds
-- both names of the indicator, and only the matching rows). Each way stops once a page is full; the ways not chosen
-- have a limit of 0, which SQLite checks before reading a row.
way as materialized (
  select case
    when :document <> '' then 'document'
    when :area <> '' and (select coalesce(sum(figures), 0) from matching_areas) <= 50000 then 'area'
    when :theme <> '' then 'theme'
    else 'walk'
  end as chosen
)
select indicator, indicator_en, qualifier, value, unit, period_start, period_end, reference_date, area,
       document, theme, partner, source_publisher, source_date, source_url, notes, specification_id
from (
  select * from (
    select * from figure where document_id = :document
    order by indicator, area, reference, source_date
    limit (select iif(chosen = 'document', ${page_rows}, 0) from way))
  union all
  select * from (
    select * from figure where area in (select area from matching_areas)
    order by indicator, area, reference, source_date
    limit (select iif(chosen = 'area', ${page_rows}, 0) from way))
  union all
  select * from (
    select * from figure where specification_id in (
      select id from specifications where theme_id in (
        select id from themes where theme_key = :theme
           or rowid in (select rowid from themes_name_nl_trigram where name_nl like '%' || :theme || '%')))
    order by indicator, area, reference, source_date
    limit (select iif(chosen = 'theme', ${page_rows}, 0) from way))
  union all
  select * from (
    select * from figure
    order by indicator, area, reference, source_date
    limit (select iif(chosen = 'walk', ${page_rows}, 0) from way))
)
order by indicator, area, reference, source_date
