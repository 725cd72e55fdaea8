# lavaan reference for the structure route on data posted through the API
# (tests/app/test_reports_structure.py::test_the_route_equals_lavaan_on_data_posted_through_the_api).
#
# Run from the repository root (the Python test only reads the committed output):
#   python tests/app/reference/make_structure_api_data.py     # writes structure_api_data.csv (seeded)
#   Rscript tests/app/reference/make_structure_api_reference.R > tests/app/reference/structure_api_reference.txt
# Writes structure_api_reference.json. Needs lavaan and jsonlite (Debian r-cran-lavaan r-cran-jsonlite).
#
# 1. The youth form's core model (12 items, 3 factors): lavaan's default cfa(), ML, listwise.
# 2. Invariance between the youth and the parent form on the items instrument 1.1 declares parallel
#    (parallel: in instrument/definitions/verbondenheid-1.1.yaml), each parent item under the name of
#    its youth counterpart: configural, metric (group.equal = "loadings"), scalar (+ "intercepts").

suppressPackageStartupMessages({
  library(lavaan)
  library(jsonlite)
})

here <- "tests/app/reference"
data <- read.csv(file.path(here, "structure_api_data.csv"))
measures <- c("npar", "chisq", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea.ci.lower",
              "rmsea.ci.upper", "srmr")

youth <- data[data$form == "jongere", ]
core <- "
gezien_worden =~ jg_gz_1 + jg_gz_2 + jg_gz_3 + jg_gz_4
erbij_horen =~ jg_eh_1 + jg_eh_2 + jg_eh_3 + jg_eh_4
ertoe_doen =~ jg_ed_1 + jg_ed_2 + jg_ed_3 + jg_ed_4
"
core_fit <- cfa(core, data = youth)

pairs <- c(jg_gz_2 = "ou_gz_1", jg_gz_4 = "ou_gz_4", jg_eh_1 = "ou_eh_1", jg_eh_3 = "ou_eh_3",
           jg_ed_2 = "ou_ed_1", jg_ed_3 = "ou_ed_2")
parents <- data[data$form == "ouder", c("form", unname(pairs))]
names(parents) <- c("form", names(pairs))
both <- rbind(youth[, c("form", names(pairs))], parents)
parallel <- "
gezien_worden =~ jg_gz_2 + jg_gz_4
erbij_horen =~ jg_eh_1 + jg_eh_3
ertoe_doen =~ jg_ed_2 + jg_ed_3
"
configural <- cfa(parallel, data = both, group = "form")
metric <- cfa(parallel, data = both, group = "form", group.equal = "loadings")
scalar <- cfa(parallel, data = both, group = "form", group.equal = c("loadings", "intercepts"))
lrt <- lavTestLRT(configural, metric, scalar)

steps <- list(configural = configural, metric = metric, scalar = scalar)
result <- list(
  versions = list(R = R.version.string, lavaan = as.character(packageVersion("lavaan"))),
  core = as.list(fitMeasures(core_fit, measures)),
  core_std_all = standardizedSolution(core_fit)[standardizedSolution(core_fit)$op == "=~",
                                                c("lhs", "rhs", "est.std")],
  forms = lapply(steps, function(fit) as.list(fitMeasures(fit, measures))),
  forms_n = as.list(table(both$form)),
  lrt = list(delta_chisq = lrt[["Chisq diff"]][2:3], delta_df = lrt[["Df diff"]][2:3],
             p = lrt[["Pr(>Chisq)"]][2:3])
)
write_json(result, file.path(here, "structure_api_reference.json"), digits = NA, auto_unbox = TRUE,
           pretty = TRUE)
print(result$versions)
print(sapply(steps, function(fit) fitMeasures(fit, c("chisq", "df", "cfi", "rmsea", "srmr"))))
print(lrt)
