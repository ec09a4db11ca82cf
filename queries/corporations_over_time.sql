-- title: Corporaties in de afspraken door de tijd / Corporations in the agreements over time
-- description: Voor elke woningcorporatie de jaren waarvoor zij aan afspraken deelnam volgens de bronnen, met de gemeente
--   (in de titel als die haar niet noemt), fusie of opheffing. Een ontbrekend jaar betekent dat geen bron het noemt.
--   Vul een gemeente in of laat leeg voor alle. — For each housing corporation the years it took part in agreements
--   according to the sources, with the municipality (added to the title where the title lacks it), merger or dissolution.
--   A missing year means no source says so. Enter a municipality or leave empty for all.
-- params:
-- - municipality
-- labels:
--   start_year: Beginjaar
--   end_year: Eindjaar
select p.name as corporation,
       case when instr(d.title, d.municipality) > 0 then d.title
            else d.title || ' (' || d.municipality || ')' end as document,
       d.period_start as start_year,
       coalesce(d.period_end, d.period_start) as end_year, dp.role,
       p.ended_on, p.end_reason, n.name as successor,
       s.publisher as source_publisher, s.url as source_url, d.municipality
from document_partners dp
join partners p on p.id = dp.partner_id
join documents d on d.id = dp.document_id
left join partners n on n.id = p.successor_id
join sources s on s.id = dp.source_id
where p.kind = 'woningcorporatie'
  and (+d.id in (select document_id from agreement_documents) or +d.kind = 'ambitiekader')
  and (:municipality = '' or ${municipality_matches})
order by p.name, d.period_start
