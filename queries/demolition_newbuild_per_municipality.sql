-- title: Afgesproken sloop en nieuwbouw per gemeente / Agreed demolition and new build per municipality
-- description: Per gemeente met prestatieafspraken vanaf 2022 de aantallen te slopen en nieuw te bouwen of op te leveren
--   corporatiewoningen die in de afspraken staan, met periode en bron. Een lege regel betekent dat de data voor die
--   gemeente geen afgesproken aantal hebben (zie wat ontbreekt); dat is geen nul. De periodes verschillen per gemeente,
--   dus tel of vergelijk de aantallen niet als totalen. Aantallen uit projectberichten staan in de cijfers en projecten,
--   niet hier. — Per municipality with performance agreements from 2022 on, the numbers of corporation homes to be demolished
--   and newly built or handed over that the agreements state, with period and source. An empty row means the data hold
--   no agreed number for that municipality (see what is missing); that is not zero. Periods differ per municipality,
--   so do not add or compare the numbers as totals. Numbers from project reports are in the figures and projects, not
--   here.
-- params:
-- - municipality
-- labels:
--   kind_nl: Soort werk
--   kind_en: Soort werk (Engels)
--   period: Periode
--   note: Opmerking
with kinds(kind_nl, kind_en, pattern, ord) as (
  values ('Sloop', 'Demolition', '%sloop%', 1), ('Nieuwbouw', 'New build', '%nieuw%', 2)
),
recent_agreements as (
  select * from documents where id in (select document_id from agreement_documents) and period_start >= 2022
),
municipalities as (
  select distinct municipality from recent_agreements
  where :municipality = '' or ${municipality_matches}
),
figures as (
  select d.municipality, k.kind_nl, sp.id, sp.value, sp.qualifier, sp.period_start, sp.period_end,
         sp.indicator, sp.source_id, d.title as document
  from specifications sp
  join recent_agreements d on d.id = sp.document_id
  join kinds k on lower(sp.indicator) like k.pattern
  where sp.unit = 'woningen'
)
select m.municipality, k.kind_nl, k.kind_en, f.value as homes, f.qualifier,
       case when f.id is null then null when f.period_start = f.period_end then f.period_start
            else f.period_start || '-' || f.period_end end as period,
       f.indicator, f.document,
       case when f.id is null
         then 'geen afgesproken aantal in de data (zie wat ontbreekt) / no agreed number in the data (see what is missing)'
         else '' end as note,
       s.publisher as source_publisher, s.published_on as source_date, s.url as source_url,
       f.id as specification_id
from municipalities m
cross join kinds k
left join figures f on f.municipality = m.municipality and f.kind_nl = k.kind_nl
left join sources s on s.id = f.source_id
order by m.municipality, k.ord, f.period_start
