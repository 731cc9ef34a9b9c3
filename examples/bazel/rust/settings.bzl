"""Build settings of our own (no bazel_skylib offline)."""

SettingInfo = provider(
    doc = "The value of a build setting.",
    fields = {"value": "the setting's value"},
)

def _setting_impl(ctx):
    return [SettingInfo(value = ctx.build_setting_value)]

bool_flag = rule(implementation = _setting_impl, build_setting = config.bool(flag = True))
int_flag = rule(implementation = _setting_impl, build_setting = config.int(flag = True))
string_flag = rule(implementation = _setting_impl, build_setting = config.string(flag = True))
string_list_flag = rule(implementation = _setting_impl, build_setting = config.string_list(flag = True))
