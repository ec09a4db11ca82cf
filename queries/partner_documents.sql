-- title: Aan welke documenten deed elke partner mee, en in welke rol / Which documents each partner took part in
-- description: Per partner de documenten met de rol die de partner erin had en de bron. Dat
--   een partner hier ontbreekt bij een document, betekent alleen dat geen bron het noemt. — Per partner the documents
--   with the role and the source. A partner missing for a document only means no source says so.
-- params:
-- - partner
select o.partner, o.partner_kind, o.document, o.year, o.role, o.notes, o.source_publisher, o.source_url
-- The partners in the order asked (the index on kind and name), each with its documents, so a page of national data
-- reads its first rows and stops instead of sorting every partner's documents (CROSS JOIN keeps SQLite to that
-- order; `+` keeps it from starting at the partners asked for, which it would then have to sort). c is the row of
-- partners that the view joins again, so c.kind and c.name are the view's partner_kind and partner.
from partners c
cross join document_partners_overview o on o.partner_id = c.id
where +c.id in (${partner_ids})
order by c.kind, c.name, o.year, o.document_id
