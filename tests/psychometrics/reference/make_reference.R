# Reference values for tests/psychometrics, computed with R's own packages.
#
# Run from the repository root (the Python tests only read the committed output):
#   python tests/psychometrics/reference/make_nested_data.py   # writes nested_data.csv (seeded)
#   Rscript tests/psychometrics/reference/make_reference.R      # writes bfi.csv and reference.json
#
# Needs: psych, psychTools, lavaan, semTools, multilevel, lme4, jsonlite
# (Debian: apt-get install r-cran-psych r-cran-psychtools r-cran-lavaan r-cran-semtools
#  r-cran-multilevel r-cran-lme4 r-cran-jsonlite).

suppressPackageStartupMessages({
  library(psych)
  library(psychTools)
  library(lavaan)
  library(semTools)
  library(multilevel)
  library(lme4)
  library(jsonlite)
})

here <- "tests/psychometrics/reference"
packages <- c("psych", "psychTools", "lavaan", "semTools", "multilevel", "lme4", "jsonlite")

# ---------------------------------------------------------------------------------------------
# helpers: each returns exactly what a Python function is compared with
# ---------------------------------------------------------------------------------------------

alpha_reference <- function(x) {
  a <- psych::alpha(x, check.keys = FALSE, warnings = FALSE)
  list(
    raw_alpha = a$total$raw_alpha,
    std_alpha = a$total$std.alpha,
    # psych's Feldt interval uses nrow(x) as n, complete or not
    feldt_lower = unlist(a$feldt$lower.ci)[[1]],
    feldt_upper = unlist(a$feldt$upper.ci)[[1]],
    n_rows = nrow(x),
    n_complete = sum(complete.cases(x)),
    # the same interval on the complete-case n (what verbonden reports)
    feldt_complete_n_lower = unlist(psych::alpha.ci(a$total$raw_alpha, sum(complete.cases(x)), ncol(x))$lower.ci)[[1]],
    feldt_complete_n_upper = unlist(psych::alpha.ci(a$total$raw_alpha, sum(complete.cases(x)), ncol(x))$upper.ci)[[1]],
    item_n = unname(a$item.stats$n),
    item_mean = unname(a$item.stats$mean),
    item_sd = unname(a$item.stats$sd),
    r_drop = unname(a$item.stats$r.drop),
    alpha_drop = unname(a$alpha.drop$raw_alpha)
  )
}

omega_reference <- function(x) {
  complete <- na.omit(x)
  model <- paste("f =~", paste(colnames(x), collapse = " + "))
  fit <- lavaan::cfa(model, data = complete, std.lv = TRUE)
  unname(semTools::compRelSEM(fit, obs.var = FALSE))
}

omega_median_imputed <- function(x) {
  # what factor_analyzer does by default; verbonden must NOT give this number
  for (j in seq_len(ncol(x))) x[is.na(x[, j]), j] <- median(x[, j], na.rm = TRUE)
  omega_reference(x)
}

score_reference <- function(x, reverse, scale_min, scale_max, min_answered) {
  x[reverse] <- scale_min + scale_max - x[reverse]
  s <- rowMeans(x, na.rm = TRUE)
  s[rowSums(!is.na(x)) < min_answered] <- NA
  unname(s)
}

icc_reference <- function(score, group) {
  d <- data.frame(score = score, group = group)
  fit <- aov(score ~ factor(group), data = d)  # rows with NA dropped (na.omit)
  used <- d[complete.cases(d), ]
  sizes <- table(used$group)
  icc <- multilevel::ICC1(fit)
  list(
    icc1 = icc,
    icc2 = multilevel::ICC2(fit),
    groups = names(sizes),
    group_sizes = as.vector(sizes),
    # multilevel::gmeanrel's formula, with the ANOVA ICC(1)
    group_reliability = as.vector(sizes * icc / (1 + (sizes - 1) * icc))
  )
}

rwg_reference <- function(x, group, ranvar) {
  # multilevel 2.7 drops incomplete rows (na.exclude) before splitting by group
  r <- multilevel::rwg.j(x, group, ranvar = ranvar)
  list(groups = as.character(r$grpid), rwg_j = r$rwg.j)
}

rwg_answered_values <- function(x, group, ranvar) {
  # each item's answered values per group: mean(apply(Q, 2, var, na.rm = TRUE))
  keep <- !is.na(group)
  parts <- split(x[keep, , drop = FALSE], group[keep])
  values <- sapply(parts, function(Q) {
    J <- ncol(Q)
    if (nrow(Q) < 2) return(NA_real_)
    S <- mean(apply(Q, 2, var, na.rm = TRUE))
    if (is.na(S)) return(NA_real_)
    if (S > ranvar) S <- ranvar
    (J * (1 - S / ranvar)) / ((J * (1 - S / ranvar)) + S / ranvar)
  })
  list(groups = names(parts), rwg_j = unname(values))
}

lmer_reference <- function(d, reml) {
  fit <- lme4::lmer(score ~ 1 + (1 | team / professional), data = d, REML = reml,
                    control = lmerControl(optimizer = "bobyqa",
                                          optCtrl = list(rhobeg = 2e-4, rhoend = 2e-11, maxfun = 1e5)))
  vc <- as.data.frame(lme4::VarCorr(fit))
  var_team <- vc$vcov[vc$grp == "team"]
  var_prof <- vc$vcov[vc$grp == "professional:team"]
  var_res <- vc$vcov[vc$grp == "Residual"]
  used <- d[!is.na(d$score), ]
  n_prof <- tapply(used$professional, used$team, function(p) length(unique(p)))
  n_resp <- table(used$team)
  list(
    var_team = var_team,
    var_professional = var_prof,
    var_residual = var_res,
    intercept = unname(lme4::fixef(fit)[1]),
    log_likelihood = as.numeric(logLik(fit)),
    teams = names(n_resp),
    team_n_professionals = as.vector(n_prof[names(n_resp)]),
    team_n_respondents = as.vector(n_resp),
    team_reliability = as.vector(var_team / (var_team + var_prof / n_prof[names(n_resp)] +
                                               var_res / n_resp))
  )
}

respondents_needed_reference <- function(icc, target) ceiling(target * (1 - icc) / (icc * (1 - target)))

# ---------------------------------------------------------------------------------------------
# (a) psychTools::bfi: 2,800 people, 25 six-point items with missing values
# ---------------------------------------------------------------------------------------------

data(bfi, package = "psychTools")
bfi_items <- c(paste0("A", 1:5), paste0("C", 1:5), paste0("E", 1:5), paste0("N", 1:5), paste0("O", 1:5))
write.csv(bfi[, c(bfi_items, "gender", "education", "age")], file.path(here, "bfi.csv"),
          row.names = FALSE, na = "NA")
bfi_data <- read.csv(file.path(here, "bfi.csv"))  # the exact data the Python tests read

bfi_reverse <- c("A1", "C4", "C5", "E1", "E2", "O2", "O5")  # psychTools' keys
recoded <- bfi_data
recoded[bfi_reverse] <- 7 - recoded[bfi_reverse]  # nominal ends 1 and 6, not observed extremes
scales <- list(A = paste0("A", 1:5), C = paste0("C", 1:5), E = paste0("E", 1:5),
               N = paste0("N", 1:5), O = paste0("O", 1:5))

bfi_ref <- list(reverse = bfi_reverse, scales = list())
for (name in names(scales)) {
  x <- recoded[, scales[[name]]]
  complete <- na.omit(x)
  bfi_ref$scales[[name]] <- list(
    items = scales[[name]],
    alpha = alpha_reference(x),
    alpha_complete = alpha_reference(complete),
    omega = omega_reference(x),
    omega_median_imputed = omega_median_imputed(x),
    cor_pairwise = unname(cor(x, use = "pairwise.complete.obs")),
    scores = score_reference(bfi_data[, scales[[name]]], intersect(bfi_reverse, scales[[name]]), 1, 6, 4)
  )
}
agreeableness <- bfi_ref$scales$A$scores
bfi_ref$icc_education <- icc_reference(agreeableness, bfi_data$education)
bfi_ref$icc_gender <- icc_reference(agreeableness, bfi_data$gender)
bfi_ref$rwg_education <- rwg_reference(recoded[, scales$A], bfi_data$education, ranvar = (6^2 - 1) / 12)
bfi_ref$rwg_education_answered <- rwg_answered_values(recoded[, scales$A], bfi_data$education,
                                                      ranvar = (6^2 - 1) / 12)

# ---------------------------------------------------------------------------------------------
# (b) simulated nested data: respondents in professionals in teams (make_nested_data.py)
# ---------------------------------------------------------------------------------------------

nested <- read.csv(file.path(here, "nested_data.csv"))
nested_items <- c("item1", "item2", "item3_rev", "item4")
nested_recoded <- nested
nested_recoded$item3_rev <- 6 - nested_recoded$item3_rev
nested$score <- score_reference(nested[, nested_items], "item3_rev", 1, 5, 3)
nested_complete_rows <- complete.cases(nested_recoded[, nested_items])

nested_ref <- list(
  items = nested_items,
  alpha = alpha_reference(nested_recoded[, nested_items]),
  alpha_complete = alpha_reference(na.omit(nested_recoded[, nested_items])),
  omega = omega_reference(nested_recoded[, nested_items]),
  cor_pairwise = unname(cor(nested_recoded[, nested_items], use = "pairwise.complete.obs")),
  scores = nested$score,
  icc_professional = icc_reference(nested$score, nested$professional),
  rwg_professional = rwg_reference(nested_recoded[, nested_items], nested$professional, ranvar = 2),
  rwg_professional_complete = rwg_reference(nested_recoded[nested_complete_rows, nested_items],
                                            nested$professional[nested_complete_rows], ranvar = 2),
  rwg_professional_answered = rwg_answered_values(nested_recoded[, nested_items], nested$professional,
                                                  ranvar = 2),
  lmer_reml = lmer_reference(nested, reml = TRUE),
  lmer_ml = lmer_reference(nested, reml = FALSE),
  # random team assignment: the team variance is estimated at its boundary, 0 (singular fit)
  lmer_reml_random_teams = lmer_reference(transform(nested, team = team_random), reml = TRUE)
)

respondents <- data.frame(icc = c(0.05, 0.1, 0.2, 0.25, 0.3, 0.5, 0.9), target = c(0.7, 0.7, 0.8, 0.7, 0.9, 0.7, 0.7))
respondents$needed <- respondents_needed_reference(respondents$icc, respondents$target)

reference <- list(
  meta = list(
    r_version = R.version.string,
    packages = as.list(sapply(packages, function(p) as.character(packageVersion(p)))),
    made_by = "tests/psychometrics/reference/make_reference.R"
  ),
  bfi = bfi_ref,
  nested = nested_ref,
  respondents_needed = respondents
)
jsonlite::write_json(reference, file.path(here, "reference.json"), digits = NA, auto_unbox = TRUE,
                     pretty = TRUE, na = "null", dataframe = "columns")
cat("wrote", file.path(here, "reference.json"), "\n")
