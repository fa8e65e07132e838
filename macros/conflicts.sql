{#
  What one version of a reading says, as readable text: two versions with equal labels are exact
  duplicates (silently deduplicated), different labels a conflict (var conflict_policy).
  Double's text form round-trips, so equal labels mean equal values.
#}
{% macro reading_value_label(prefix='') %}
concat_ws(
    ', ',
    format_string('%s W', coalesce(cast({{ prefix }}real_power_watts as string), 'null')),
    format_string('%s V', coalesce(cast({{ prefix }}voltage_v as string), 'null')),
    format_string('pf %s', coalesce(cast({{ prefix }}power_factor as string), 'null')),
    format_string('%s kWh', coalesce(cast({{ prefix }}reported_energy_kwh as string), 'null')),
    format_string('%s A', coalesce(cast({{ prefix }}reported_current_a as string), 'null'))
)
{%- endmacro %}


{# Whether a clean row is not held by var conflict_policy 'quarantine' (held rows stay out of the marts). #}
{% macro not_held(status_column) -%}
coalesce({{ status_column }}, '') != 'held'
{%- endmacro %}
