-- title: Aan welke documenten deed elke partner mee, en in welke rol / Which documents each partner took part in
-- description: Per partner de documenten met de rol (ondertekenaar, deelnemer, opsteller, publicatie) en de bron. Dat
--   een partner hier ontbreekt bij een document, betekent alleen dat geen bron het noemt. — Per partner the documents
--   with the role and the source. A partner missing for a document only means no source says so.
-- params:
-- - partner
select p.name as partner, p.kind as partner_kind, d.title as document, d.period_start as year, dp.role,
       dp.notes, s.publisher as source_publisher, s.url as source_url
from document_partners dp
join partners p on p.id = dp.partner_id
join documents d on d.id = dp.document_id
join sources s on s.id = dp.source_id
where :partner = '' or p.id = :partner or p.name like '%' || :partner || '%'
order by p.kind, p.name, d.period_start, d.id
