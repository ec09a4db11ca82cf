-- title: Aan welke documenten deed elke partner mee, en in welke rol / Which documents each partner took part in
-- description: Per partner de documenten met de rol die de partner erin had en de bron. Dat
--   een partner hier ontbreekt bij een document, betekent alleen dat geen bron het noemt. — Per partner the documents
--   with the role and the source. A partner missing for a document only means no source says so.
-- params:
-- - partner
select partner, partner_kind, document, year, role, notes, source_publisher, source_url
from document_partners_overview
where partner_id in (${partner_ids})
order by partner_kind, partner, year, document_id
