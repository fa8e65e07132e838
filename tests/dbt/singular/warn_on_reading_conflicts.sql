{{ config(severity='warn') }}

-- Warns (never fails) when readings were received with conflicting values: see
-- fct_reading_conflicts for each one and how var conflict_policy decided it.
select * from {{ ref('fct_reading_conflicts') }}
