// The presentations of a PortfolioReport: text tables for people, JSON,
// CSV (one row per group) and the document engine/report renders as HTML.
// They show the same figures: the text rounds for reading (rates to 0.1%,
// amounts to cents), JSON and CSV write amounts exactly (the decimal as
// read, common::Decimal::ToString) and ratios as NumberFormat says.
//
// Thread-safety: pure functions.

#ifndef HEALTHSCORE_ENGINE_PORTFOLIO_PORTFOLIO_FORMAT_H_
#define HEALTHSCORE_ENGINE_PORTFOLIO_PORTFOLIO_FORMAT_H_

#include <string>
#include <utility>
#include <vector>

#include "engine/common/number_format.h"
#include "engine/portfolio/portfolio.h"
#include "engine/report/document.h"

namespace healthscore::engine::portfolio {

// `healthscore portfolio`'s text format.
std::string FormatPortfolioText(const PortfolioReport& report);

// One JSON object with a trailing newline: the period, the rules, the
// overall figures, every breakdown, the cohort curves, the records counted
// per class with example ids, and the reading problems. Ratios with a zero
// denominator are null.
std::string PortfolioJson(const PortfolioReport& report,
                          common::NumberFormat numbers = {});

// A header line, then one line per group: the overall figures
// (breakdown "all"), then every breakdown's groups. Cohort curves are in
// the other formats only.
std::string PortfolioCsv(const PortfolioReport& report,
                         common::NumberFormat numbers = {});

// The report as a document for engine/report's HTML renderer: key figures,
// NRR and GRR by tier and by each breakdown, the cohort retention curves,
// the time-to-value distribution, and the tables. `meta` lines go under
// the title.
report::Document PortfolioDocument(
    const PortfolioReport& report,
    std::vector<std::pair<std::string, std::string>> meta);

}  // namespace healthscore::engine::portfolio

#endif  // HEALTHSCORE_ENGINE_PORTFOLIO_PORTFOLIO_FORMAT_H_
