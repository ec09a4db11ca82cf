-- title: Cijfers waarover bronnen verschillen / Figures that sources state differently
-- description: Dezelfde indicator voor hetzelfde gebied en dezelfde periode, met verschillende waarden uit verschillende
--   bronnen. Elke waarde staat er met haar eigen bron; wij kiezen niet en middelen niet. — The same indicator for the
--   same area and period, with different values from different sources. Each value is shown with its own source; we
--   neither pick nor average.
select sp.indicator, sp.area, sp.period_start, sp.period_end, sp.reference_date,
       sp.qualifier, sp.value, sp.unit, s.publisher as source_publisher, s.published_on as source_date,
       s.title as source_title, s.url as source_url, sp.notes, sp.id as specification_id
from specifications sp
join agg_disputed_figures g on g.indicator = sp.indicator and g.area = sp.area and g.unit = sp.unit
 and g.ps = coalesce(sp.period_start, '') and g.pe = coalesce(sp.period_end, '')
 and g.rd = coalesce(sp.reference_date, '')
join sources s on s.id = sp.source_id
order by sp.indicator, sp.area, sp.value
