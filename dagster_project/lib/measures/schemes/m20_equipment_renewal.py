"""M20 设备更新: equipment renewal in 技术改造 projects carrying the tag M20.project_tag
(设备更新重点方向), per project."""

from ..rules import LiveFormula, RuleContext, basis, cap, condition, money, reason, tagged, wan


def equipment_renewal(ctx: RuleContext) -> str:
    enough = f"equipment_since_start >= {ctx.p('M20.min_equipment')}"
    renovation = ctx.p("M20.construction_type")
    key_direction = tagged(ctx, "M20.project_tag")
    kind = f"(construction_type = {renovation} and {key_direction})"
    eligible = f"({kind} and {enough})"
    amount = cap(f"{ctx.p('M20.rate')} * equipment_in_year", ctx.p("M20.cap"))
    trace = reason(
        condition("建设性质/标签", "construction_type || '/' || coalesce(tags, '无')", "含",
                  f"{renovation} || '/' || {ctx.shown('M20.project_tag')}", kind),
        condition("开工以来设备购置", wan("equipment_since_start"), "≥", ctx.shown("M20.min_equipment"), enough),
        amount_sql=f"{ctx.shown('M20.rate')} || ' × 本年设备购置 ' || {wan('equipment_in_year')} || '，上限 ' "
                   f"|| {ctx.shown('M20.cap')} || ' = ' || {money(amount)}",
        eligible_sql=eligible,
    )
    return f"""
        select scenario, 'M20' as scheme_id, uscc, project_code, {eligible} as eligible,
               case when {eligible} then {amount} else 0 end as amount_yuan, {trace} as reason,
               {basis("equipment_in_year")}
        from q_project
        where construction_type = {renovation} or {key_direction}
    """


SCHEMES = {"M20": equipment_renewal}
LIVE = {"M20": LiveFormula("M20.rate", "M20.cap", "本年设备购置（元）")}
