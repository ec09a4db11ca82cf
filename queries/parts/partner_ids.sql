-- The keys of the partners that a question's `:partner` parameter names: its key, or a part of its name or short
-- name (SQLite's LIKE: case-insensitive for A-Z only); every partner when the parameter is empty.
-- Used as `partner_id in (${partner_ids})`.
select id from partners
where :partner = '' or id = :partner or name like '%' || :partner || '%' or short_name like '%' || :partner || '%'
